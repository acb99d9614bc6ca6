"""Monitoring (监管): what watches for breaches and what follows one, above the features.

The sweeps find what nobody reported (a window that closed unsatisfied, a silent phone); the
features report what they saw (``correction.events``). Either way, what follows is decided here:
the alert in the queue, the points it costs or earns, the notice. Features never import this
package; the app subscribes its handlers to the features' events.
"""
