require_relative "boot"

require "rails"
require "action_controller/railtie"

module Blog
  class Application < Rails::Application
    config.load_defaults 7.2
  end
end
