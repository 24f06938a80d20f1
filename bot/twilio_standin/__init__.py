"""A local stand-in for the part of Twilio we use, and a command-line phone to talk to the bot."""
