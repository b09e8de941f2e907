export default function Home() {
  return (
    <main>
      <h1>Home NAS Dashboard</h1>
      <img src="/plex.svg" alt="Plex" width={32} height={32} />
    </main>
  );
}
