// The elements the running conversation shows (message list, composer, connection
// status), fetched with the conversation model (app.ts loadModel), not with the start
// form: the chat's first load stays what the start screen needs.
import "../lib/composer";
import "../lib/conn-status";
import "../lib/messages";
