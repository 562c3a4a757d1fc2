# Host face of time/walltime.
from tyn.time.walltime cimport walltime_days_from_civil

def days_from_civil(long long year, unsigned long long month, unsigned long long day):
    return walltime_days_from_civil(year, month, day)
