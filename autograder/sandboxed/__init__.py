"""Scripts that run INSIDE the sandbox, each started as a file in a fresh interpreter; nothing outside imports them."""
