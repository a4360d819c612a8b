// Placeholder: the engine lands in the next commit.
