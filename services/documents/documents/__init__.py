"""The documents service: uploads, resources, the client handbook, shared
notes, kept PDFs (and, beside them, forms and consents)."""
