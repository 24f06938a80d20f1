"""Program records: schema (schema.py), queries by topic (farmers, payments, trainings, standards,
privacy, requests), demo seeding (seed.py) and CSV loading (csv_import.py)."""
