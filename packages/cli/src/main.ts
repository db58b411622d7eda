export async function main(argv: string[]): Promise<number> { process.stdout.write(`envelope ${argv.join(" ")}\n`); return 0; }
