"""What the farmer reads: Spanish wording (spanish.py), reply templates (catalog.py)."""
