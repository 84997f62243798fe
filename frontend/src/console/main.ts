import "../lib/page.css";
import "./console.css";
import { initLang } from "../lib/i18n";
import "./app";

initLang();
