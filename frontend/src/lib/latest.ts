// Loads that overlap (a timer, a push, the first load): only the newest one's answer
// may be shown, or an older answer that arrives last would show what is no longer
// true (an adviser back from "away" still shown as away).

export class Latest {
  private started = 0;

  /** Begins a load; the returned check says whether it is still the newest one. */
  begin(): () => boolean {
    const mine = ++this.started;
    return () => mine === this.started;
  }
}
