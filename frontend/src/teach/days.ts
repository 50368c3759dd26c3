// Day strings from the server (YYYY-MM-DD) as chart x values.

/** uPlot's x values: seconds since the epoch, at UTC midnight. */
export function daySeconds(days: string[]): number[] {
  return days.map((day) => Date.parse(`${day}T00:00:00Z`) / 1000);
}
