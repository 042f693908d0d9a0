"""The questions a user asks of counted rows, as plain data: the period report and its
months, fee checks, benchmarks, the tax register, journals and row exports."""
