"""What `make deploy` (tools/fc.py) checks and speaks besides FC 2.0: never shipped."""
