// Placeholder main: the command line lands with the engine.
int main() { return 125; }
