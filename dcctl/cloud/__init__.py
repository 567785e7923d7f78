"""All OpenStack I/O goes through this package (openstacksdk connections and error translation)."""
