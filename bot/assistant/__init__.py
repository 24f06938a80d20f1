"""The conversation logic behind the Rasa actions, free of Rasa: a Turn in, a Reply out.

actions/ turns a Rasa tracker into a Turn and a Reply into messages and slot events; everything
else (who is writing, privacy, records, wording) happens here, in one unit of work per turn.
"""
