"""Use cases. Each public function takes primitives and a unit of work, and owns its transaction."""
