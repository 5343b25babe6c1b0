"""Staff-edited answers: schema, loading with line numbers, the checker, and live reloading."""

from bot.knowledge.loader import KnowledgeBase, Problem, load_knowledge
from bot.knowledge.store import KnowledgeStore

__all__ = ["KnowledgeBase", "KnowledgeStore", "Problem", "load_knowledge"]
