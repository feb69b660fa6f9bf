"""QC rubrics: small pass/fail checks over a run's handoffs, with evidence."""
