var app = WebApplication.CreateBuilder(args).Build();
app.MapGet("/", () => Shop.Core.Greeting.For("shop"));
app.Run();
