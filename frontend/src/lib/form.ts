// FormData values are strings or Files: a field read as text must never turn a File
// into "[object File]".
export function fieldText(data: FormData, name: string, fallback = ""): string {
  const value = data.get(name);
  return typeof value === "string" ? value : fallback;
}
