export function log(message: string): void {
  console.log(`${new Date().toISOString()} ${message}`);
}

export function greeting(name: string): string {
  return `hello from ${name}`;
}
