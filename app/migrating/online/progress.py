"""How far a long step has got, for the person watching: at a terminal a
bar redrawn in place, otherwise (a deploy log, CI) a plain line at every
tenth of the way, so a log holds ten lines, not ten thousand."""
import sys
import time

BAR_WIDTH = 30
# A terminal is redrawn at most this often (seconds).
REDRAW = 0.1
# Without a terminal, a line each time this many more hundredths are done.
LINE_EVERY = 10


class Progress:
    """The progress of `what` over `total` units (keys, rows)."""

    def __init__(self, what, total, stream=None):
        self.what = what
        self.total = max(total, 1)
        self.stream = stream or sys.stderr
        self.at_terminal = self.stream.isatty()
        self.started = time.monotonic()
        self.last_drawn = 0.0
        self.next_line = LINE_EVERY  # in hundredths
        self.rows = 0

    def update(self, done, rows=0):
        """`done` units of the total are done now; `rows` more rows changed."""
        self.rows += rows
        fraction = min(done / self.total, 1.0)
        if self.at_terminal:
            now = time.monotonic()
            if now - self.last_drawn >= REDRAW or fraction >= 1.0:
                self.last_drawn = now
                self.stream.write("\r" + self.bar(fraction, now - self.started))
                self.stream.flush()
        elif min(done, self.total) * 100 >= self.next_line * self.total:
            while self.next_line * self.total <= min(done, self.total) * 100:
                self.next_line += LINE_EVERY
            self.stream.write("{}: {:.0%} ({} rows)\n".format(self.what, fraction, self.rows))
            self.stream.flush()

    def finish(self):
        """The step is done: end the bar's line (or write the last line)."""
        if self.at_terminal:
            self.update(self.total)
            self.stream.write("\n")
            self.stream.flush()
        elif self.next_line <= 100:
            self.stream.write("{}: 100% ({} rows)\n".format(self.what, self.rows))
            self.stream.flush()

    def bar(self, fraction, elapsed):
        filled = int(round(fraction * BAR_WIDTH))
        rate = self.rows / elapsed if elapsed > 0 else 0
        left = elapsed * (1 - fraction) / fraction if fraction > 0 else None
        return "{} [{}{}] {:3.0%} {} rows, {:.0f} rows/s{}".format(
            self.what, "#" * filled, "." * (BAR_WIDTH - filled), fraction, self.rows, rate,
            ", {:.0f} s left".format(left) if left is not None and fraction < 1 else "")
