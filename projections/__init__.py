"""Read models: tables, projectors (event -> row changes) and the runner that feeds them."""
