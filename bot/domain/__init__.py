"""The domain: plain dataclasses and pure rules. No Slack, no SQL, no I/O."""
