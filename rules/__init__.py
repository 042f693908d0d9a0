"""Rules: what each hop takes (fees), what a currency is worth (FX), deductions and taxes."""
