"""The branch shared by every family: organisation, people, roles, accounts, tokens, demo branch."""
