"""Everything people and scripts read: tables that fit the width, JSON, CSV and HTML, with
figures written in the locale passed in. The library never imports this package; the CLI
calls it with the data the library returned."""
