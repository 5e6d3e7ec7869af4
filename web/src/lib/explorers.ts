/** Block explorers of well-known chains, by chain id; a chain not listed (a devnet) has no links. */
const EXPLORERS: Readonly<Record<string, string>> = {
  '1': 'https://etherscan.io',
  '11155111': 'https://sepolia.etherscan.io',
  '17000': 'https://holesky.etherscan.io',
  '10': 'https://optimistic.etherscan.io',
  '8453': 'https://basescan.org',
  '42161': 'https://arbiscan.io',
  '137': 'https://polygonscan.com',
};

export const txUrl = (chainId: string, txHash: string): string | undefined => {
  const base = EXPLORERS[chainId];
  return base ? `${base}/tx/${txHash}` : undefined;
};
