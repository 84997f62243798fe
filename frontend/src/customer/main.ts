import "../lib/page.css";
import "./customer.css";
import { initLang } from "../lib/i18n";
import { embedded } from "./embed";
import "./app";

initLang();
document.documentElement.classList.toggle("embed", embedded);
