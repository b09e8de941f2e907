export const greeting = (name: string) => `hello ${name}`;
