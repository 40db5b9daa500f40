"""Code the API functions share: error responses, capture and quarantine lines."""
