import type { Metadata } from "next";

export const metadata: Metadata = {
  title: "Home NAS Dashboard",
  description: "Home NAS dashboard",
};

export default function RootLayout({
  children,
}: Readonly<{
  children: React.ReactNode;
}>) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
