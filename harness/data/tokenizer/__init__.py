"""Where a bundle's tokenizer.json comes from: built from the corpus at training time
(`from_corpus`, the only place that consults a Unicode database) or read from a team's own
preprocessing file (`from_file`, checked by the real implementation)."""
