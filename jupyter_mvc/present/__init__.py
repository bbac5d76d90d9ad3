"""Presentation: pure data in, plain dicts, rows and strings out, for every face (CLI,
magics, widgets, server, comm). One wording, one number format, one age, one graph.

  fmt      numbers, sizes, ages, name lists, metric direction (goal, best)
  graph    the commit-graph lane layout (rows, edges, width)
  history  log rows/lines (HEAD -> branch decorations, the text graph)
  views    JSON-ready views of versions, diffs and logs (server and widgets)
  text     diff, status, series and report text (magics and CLI)
  runs     the runs table (rows, columns that differ, sorting, best values), its text and JSON
"""
