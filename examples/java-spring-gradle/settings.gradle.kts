rootProject.name = "api"
