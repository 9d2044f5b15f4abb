"""The nilcheck engine: discovery, facts, call graph, ordering analysis, reporters."""
