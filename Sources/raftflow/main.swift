// Placeholder entry point; the command-line tool is built in the CLI issue.
print("raftflow: under construction")
