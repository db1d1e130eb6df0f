"""One module per ``assistant bench`` section; each ``section_<name>(plan)`` returns its JSON result."""
