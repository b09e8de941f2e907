// Distilled from github.com/davidfowl/TodoApi at 7f594d31ceec26b26eb4d1d443c15978c1dcfe1b (TodoApi/Program.cs):
// the SQLite database lives under the working directory (.db/).
var builder = WebApplication.CreateBuilder(args);
var connectionString = builder.Configuration.GetConnectionString("Todos") ?? "Data Source=.db/Todos.db";

var app = builder.Build();
app.MapGet("/", () => "ok");
app.Run();
