module.exports = { connect() {} };
