"""Delivery of the outbox: each notification sent by push (JPush), a text (Alibaba Cloud SMS) as
the fallback for the kinds that need one, or the log; a dispatcher that claims, sends and records."""
