"""Live control: events between processes, the control loop, subscriptions' fan-out."""
