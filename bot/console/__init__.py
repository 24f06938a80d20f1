"""Staff console: a Flask app for program staff (see docs/console.md)."""
