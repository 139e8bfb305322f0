"""The embedded default workload: a small GPT trained from scratch on text every machine has."""
