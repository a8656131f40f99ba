# SPDX-License-Identifier: MIT
# Shell helpers the bench/*.sh scripts share (sourced, not run).

# The median of the numbers on stdin, one per line ("nan" when there are none).
median() { sort -g | awk '{ v[NR] = $1 } END { if (!NR) print "nan"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# Seconds since the epoch, to the nanosecond.
now() { date +%s.%N; }
