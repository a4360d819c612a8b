# bench/machine.py: what every benchmark prints beside its ratios (DESIGN.md 7: machines of
# this kind differ, and the clocksource decides which vDSO path runs).
"""The machine facts the bench scripts share."""


def clocksource():
  """The kernel's current clocksource ("tsc", "kvm-clock", ...), or "?"."""
  try:
    with open('/sys/devices/system/clocksource/clocksource0/current_clocksource') as f:
      return f.read().strip()
  except OSError:
    return '?'
