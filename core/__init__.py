"""What both the web app and the worker stand on: environment, configuration, store."""
