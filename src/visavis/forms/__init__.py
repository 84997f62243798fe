"""Forms filled in together inside a conversation: templates (JSON Schema draft
2020-12 plus a UI description, versioned), the forms opened from them (every field
change an event, optimistic concurrency per field, validation with `jsonschema` and
library format checkers), submission, the customer's confirmation, and the submitted
form as JSON and PDF."""
