"""What the Prefect flows compose, and the local Prefect stack."""
