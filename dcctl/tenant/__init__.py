"""Agency tenants: desired state from the spec, live state from the cloud, and the handlers
that converge one into the other (plan → apply), plus suspension and decommission."""
