"""Route modules; each exposes a function that returns an APIRouter."""
