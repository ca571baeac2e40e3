"""Training samples: open texts a learner grades, with the staff's scores and comments after each, before live reviews."""
